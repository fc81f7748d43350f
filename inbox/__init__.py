"""The officers' web inbox: login, queue, ticket pages, answer composer, manual intake, recap, admin."""
from inbox import admin, letter, recap
from inbox.auth import bp as auth_bp
from inbox.views import bp as inbox_bp

__all__ = ["admin", "init_app", "letter", "recap"]  # their pages are on the inbox's blueprint, added on import


def init_app(app) -> None:
    """Register the inbox's blueprints and its command line."""
    from inbox import auth, cli, errors, views

    app.session_interface = auth.SessionInterface()
    app.register_blueprint(auth_bp)
    app.register_blueprint(inbox_bp)
    app.before_request(views.allow_scans)  # before the CSRF check reads the form
    app.before_request(auth.check_csrf)
    app.context_processor(auth.template_globals)
    app.cli.add_command(cli.officers)
    app.cli.add_command(cli.agencies)
    app.cli.add_command(cli.lapor_export)
    errors.init_app(app)
