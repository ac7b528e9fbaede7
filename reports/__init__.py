"""Report exports: the top-level app that reads every other app and that nothing imports."""
