"""Built-in checks. Installed as `cborg_doctor_checks`; each module registers through the entry-point group like a plugin."""
