"""`python -m cborg_doctor` is the same as `cborg-doctor`."""

from .cli import main

raise SystemExit(main())
