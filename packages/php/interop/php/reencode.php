<?php
// Reads base64 session strings, one a line, and answers each with PHP's own
// session_decode() then session_encode() of it (base64), or "!" when PHP refuses it.
session_start();
while (($line = fgets(STDIN)) !== false) {
	$_SESSION = array();
	$ok = @session_decode(base64_decode(trim($line)));
	echo $ok ? base64_encode(session_encode()) : '!', "\n";
}
