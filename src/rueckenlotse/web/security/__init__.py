"""What guards every request: CSRF tokens, the session cookie, the signed intake state, and the middleware."""
