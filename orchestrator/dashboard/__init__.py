"""The operator dashboard served by ``rpa serve``: pages, JSON API, metrics, users and sign-in.

Entry point: ``orchestrator.dashboard.app.install_dashboard(app, context)``, called by
``orchestrator.api.app.create_app``. See docs/dashboard.md.
"""
