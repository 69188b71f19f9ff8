"""The app gunicorn serves (Procfile: ``gunicorn wsgi:app``), built once per
process when gunicorn imports this module."""

from web import create_app_or_exit

app = create_app_or_exit()
