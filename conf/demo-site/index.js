// Landing page: "Connect with Spotify", or "Go to your dashboard" when
// /auth/session says we are signed in.
'use strict';

(async () => {
  const s = await spotauth.session();
  if (s && s.authenticated) {
    document.getElementById('who-name').textContent = s.user.display_name || s.user.id;
    document.getElementById('who').hidden = false;
    spotauth.show('signed-in', 'signed-out');
    return;
  }
  // {"authenticated": false, "error": "refresh_failed"}: Spotify no longer
  // accepts the session (revoked access, password change...).
  if (s && s.error === 'refresh_failed') document.getElementById('ended').hidden = false;
  spotauth.show('signed-out', 'signed-in');
})();
