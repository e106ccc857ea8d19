/*
 * Frontline's chat widget loader (docs/CHANNELS.md). A site adds
 *   <script src="https://support.example.com/widget.js" async></script>
 * and gets a "Chat with us" button; the chat itself runs in an iframe of
 * Frontline's own page /chat/ (its origin, its storage, its strict CSP),
 * which only the sites in FRONTLINE_CHAT_ORIGINS may frame. This file
 * touches nothing of the host page but the two elements it adds.
 */
(function () {
	'use strict';
	var me = document.currentScript;
	if (!me || window.__frontlineChat)
		return;
	window.__frontlineChat = true;
	var origin = new URL(me.src, location.href).origin;
	var frame = null;
	var button = document.createElement('button');
	button.type = 'button';
	button.textContent = me.getAttribute('data-label') || 'Chat with us';
	button.setAttribute('aria-haspopup', 'dialog');
	button.setAttribute('aria-expanded', 'false');
	button.style.cssText = 'position:fixed;right:20px;bottom:20px;z-index:2147483646;padding:12px 18px;' +
		'border:0;border-radius:24px;background:#1a56db;color:#fff;font:600 15px/1.2 system-ui,sans-serif;' +
		'box-shadow:0 2px 8px rgba(0,0,0,.3);cursor:pointer';

	function show(open) {
		if (open && !frame) {
			frame = document.createElement('iframe');
			frame.src = origin + '/chat/index.html';
			frame.title = 'Chat with support';
			frame.setAttribute('allow', '');
			frame.style.cssText = 'position:fixed;right:20px;bottom:76px;z-index:2147483647;width:370px;' +
				'max-width:calc(100vw - 40px);height:540px;max-height:calc(100vh - 100px);border:0;' +
				'border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.3);background:#fff';
			document.body.appendChild(frame);
		}
		if (frame)
			frame.style.display = open ? 'block' : 'none';
		button.setAttribute('aria-expanded', open ? 'true' : 'false');
		if (open && frame)
			frame.focus();
	}

	button.addEventListener('click', function () {
		show(!frame || frame.style.display === 'none');
	});
	/* the chat page asks to be closed (its close button, Escape) */
	window.addEventListener('message', function (e) {
		if (e.origin === origin && frame && e.source === frame.contentWindow && e.data === 'frontline-chat:close') {
			show(false);
			button.focus();
		}
	});
	function add() {
		document.body.appendChild(button);
	}
	if (document.body)
		add();
	else
		document.addEventListener('DOMContentLoaded', add);
})();
