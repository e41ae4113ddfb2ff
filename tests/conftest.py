pytest_plugins = ["libs.common.testing.pytest_plugin", "tests.support.consent_stack"]
