<?php
// A PHP app on ADOdb's session handler (adodb-session2.php), configured from the environment by
// the interop suite. Each action answers JSON.
require_once 'adodb/adodb.inc.php';

$ADODB_SESSION_DRIVER = getenv('SESS_DRIVER');
$ADODB_SESSION_CONNECT = '127.0.0.1';
$ADODB_SESSION_USER = getenv('SESS_USER');
$ADODB_SESSION_PWD = '';
$ADODB_SESSION_DB = getenv('SESS_DB');
$ADODB_SESSION_TBL = getenv('SESS_TABLE');
// expireref comes from the global $USERID; ADOdb calls on_expire(ref, key) in gc and destroy.
$ADODB_SESSION_EXPIRE_NOTIFY = array('USERID', 'on_expire');

function on_expire($ref, $key) {
	file_put_contents(getenv('NOTIFY_LOG'), "$ref $key\n", FILE_APPEND | LOCK_EX);
}

class Cart {
	public $items = array();
	protected $owner;
	private $note = "\xff binary";
	function __construct($owner) { $this->owner = $owner; }
	function owner() { return $this->owner; }
}

require_once 'adodb/session/adodb-session2.php';
if (getenv('SESS_GZIP') === '1') {
	require_once 'adodb/session/adodb-compress-gzip.php';
	ADODB_Session::filter(new ADODB_Compress_Gzip());
}

session_start();
$out = array();
switch ($_GET['a'] ?? 'show') {
	case 'login':
		session_regenerate_id();
		$_SESSION['userId'] = $_GET['user'];
		$_SESSION['cart'] = array('apple');
		break;
	case 'push':
		$_SESSION['cart'][] = $_GET['item'];
		break;
	case 'putobj':
		$c = new Cart($_SESSION['userId'] ?? 'nobody');
		$c->items = array('pear', 2.5);
		$_SESSION['obj'] = $c;
		$out['serialized'] = base64_encode(serialize($c));
		break;
	case 'checkobj':
		$o = $_SESSION['obj'] ?? null;
		$out['isCart'] = $o instanceof Cart;
		$out['owner'] = $o instanceof Cart ? $o->owner() : null;
		$out['serialized'] = $o === null ? null : base64_encode(serialize($o));
		break;
	case 'logout':
		session_destroy();
		break;
	case 'gc':
		ADODB_Session::gc(0);
		break;
}
if (session_status() === PHP_SESSION_ACTIVE) {
	$USERID = $_SESSION['userId'] ?? '';
	$out['session'] = $_SESSION;
	unset($out['session']['obj']);
	$out['id'] = session_id();
}
header('Content-Type: application/json');
echo json_encode($out);
