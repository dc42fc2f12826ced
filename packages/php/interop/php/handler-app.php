<?php
// A PHP app on a hand-written session_set_save_handler class over a php_session table, in the
// style of the well-known tutorial: session_id, user_id, date_created, last_updated, session_data.
class PhpSessionHandler implements SessionHandlerInterface {
	private $pdo;
	function open($path, $name): bool {
		$this->pdo = new PDO(getenv('SESS_DSN'), getenv('SESS_USER'), '', array(PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION));
		return true;
	}
	function close(): bool { $this->pdo = null; return true; }
	function read($id): string|false {
		$st = $this->pdo->prepare('SELECT session_data FROM ' . getenv('SESS_TABLE') . ' WHERE session_id = ?');
		$st->execute(array($id));
		$v = $st->fetchColumn();
		return $v === false ? '' : $v;
	}
	function write($id, $data): bool {
		$t = getenv('SESS_TABLE');
		$user = $_SESSION['logon_user_id'] ?? '';
		$st = $this->pdo->prepare("SELECT COUNT(*) FROM $t WHERE session_id = ?");
		$st->execute(array($id));
		if ($st->fetchColumn() > 0) {
			$st = $this->pdo->prepare("UPDATE $t SET session_data = ?, user_id = ?, last_updated = NOW() WHERE session_id = ?");
		} else {
			$st = $this->pdo->prepare("INSERT INTO $t (session_data, user_id, session_id, date_created, last_updated) VALUES (?, ?, ?, NOW(), NOW())");
		}
		return $st->execute(array($data, $user, $id));
	}
	function destroy($id): bool {
		$st = $this->pdo->prepare('DELETE FROM ' . getenv('SESS_TABLE') . ' WHERE session_id = ?');
		return $st->execute(array($id));
	}
	function gc($max): int|false { return 0; }
}

// Public properties and UTF-8 only: a text column cannot hold the NUL of private properties
// (PostgreSQL) or non-UTF-8 bytes (PostgreSQL refuses them, MariaDB cuts the value short).
class Cart {
	public $items = array('pear', 2.5);
	public $note = 'naïve';
}

session_set_save_handler(new PhpSessionHandler(), true);
session_start();
$out = array();
switch ($_GET['a'] ?? 'show') {
	case 'login':
		session_regenerate_id();
		$_SESSION['logon_user_id'] = $_GET['user'];
		$_SESSION['cart'] = array('apple');
		break;
	case 'push':
		$_SESSION['cart'][] = $_GET['item'];
		break;
	case 'putobj':
		$_SESSION['obj'] = new Cart();
		$out['serialized'] = base64_encode(serialize($_SESSION['obj']));
		break;
	case 'checkobj':
		$o = $_SESSION['obj'] ?? null;
		$out['isCart'] = $o instanceof Cart;
		$out['serialized'] = $o === null ? null : base64_encode(serialize($o));
		break;
	case 'logout':
		session_destroy();
		break;
}
if (session_status() === PHP_SESSION_ACTIVE) {
	$out['session'] = $_SESSION;
	unset($out['session']['obj']);
}
header('Content-Type: application/json');
echo json_encode($out);
