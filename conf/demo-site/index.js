// Landing page: "Connect with Spotify", or "Go to your dashboard" when
// /auth/session says we are signed in; and, when nginx or a page sent the
// browser back here with ?spotauth_notice=<code>, why.
'use strict';

(async () => {
  const notice = spotauth.takeNotice();
  const s = await spotauth.session();
  const signedIn = Boolean(s && s.authenticated);
  // {"authenticated": false, "error": "refresh_failed"}: Spotify no longer
  // accepts the session (revoked access, password change...). A notice says
  // why the user is signed out, so a signed-in user (a stale or crafted
  // link) sees none.
  const reason = signedIn ? '' : notice || (s && s.error === 'refresh_failed' ? 'refresh_failed' : '');
  if (reason) {
    const box = document.getElementById('site-notice');
    box.className = reason === 'logged_out' ? 'notice info' : 'notice';
    box.dataset.notice = reason;
    document.getElementById('site-notice-text').textContent = spotauth.noticeText(reason);
    document.getElementById('switch-account').hidden = reason !== 'logged_out';
    box.hidden = false;
  }
  if (signedIn) {
    document.getElementById('who-name').textContent = s.user.display_name || s.user.id;
    document.getElementById('who').hidden = false;
    spotauth.show('signed-in', 'signed-out');
    return;
  }
  spotauth.show('signed-out', 'signed-in');
})();
