"""The web app (`subsidy serve`): township caseworkers upload, validate, run and download; auditors re-run and diff.

app.py builds the FastAPI application; gate.py is the middleware every request passes first (headers, session,
body limits); models.py and store.py hold the persistent store (SQLite in the data folder, or PostgreSQL from
DATABASE_URL, schema by Alembic in migrations/) and sweep.py tidies its folder at start-up; auth.py users,
roles and CSRF, sessions.py the server-side sessions, signin.py the sign-in limiter; masking.py decides what
pages show; services/ calls the engine (uploads.py receives files, sandbox.py reads them in a limited child
process, runs.py runs and checks); routes/ are the pages.
"""
