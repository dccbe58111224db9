"""The web app (`subsidy serve`): township caseworkers upload, validate, run and download; auditors re-run and diff.

app.py builds the FastAPI application; models.py and store.py hold the persistent store (SQLite in the data
folder, or PostgreSQL from DATABASE_URL, schema by Alembic in migrations/); auth.py users, roles, sessions,
CSRF and the sign-in rate limit; uploads.py and runs.py call the engine; routes_*.py are the pages.
"""
