pytest_plugins = ["libs.common.testing.pytest_plugin"]
