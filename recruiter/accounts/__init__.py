"""Accounts: who may use the web app, in which role, and what each of them did.

A team shares one catalogue and one pipeline, so the app needs people, not one password: each logs in with an
email and a password (Argon2id), in a session kept on the server, and acts in one of four roles (viewer,
member, admin, owner). Every change any face makes goes through a service that asks `roles.require` first and
writes an `audit` entry with the change, so the command line, the pages and every websocket event refuse the
same things and leave the same trace.

- `roles`  the permissions of each role, the `Actor` a face acts as, and `require` (checked again against the
           database on every action of a web session: a disabled user or a changed role counts at once);
- `audit`  the log: record an entry with the change it describes; read it back;
- `users`  people and invitations: add, list, role, disable, enable, reset a password, invite, accept;
- `login`  passwords, the lockout kept in the database (per account and per address), server-side sessions.

Until the first `recruiter user add`, the app behaves as before accounts: on loopback without a login, beyond
it with `RECRUITER_PASSWORD`; both act as the owner.
"""
