"""Built-in checks, installed as `cborg_doctor_checks`.

Each module registers through the `cborg_doctor.checks` entry-point group,
exactly like a third-party plugin.
"""
