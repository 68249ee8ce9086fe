"""Users, roles, passkeys, device keys with PIN fallback, sessions and enrolment."""
