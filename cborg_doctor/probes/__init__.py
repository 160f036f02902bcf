"""The probe layer: all network I/O of the checks goes through here."""
