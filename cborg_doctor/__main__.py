"""`python -m cborg_doctor` is the same as `cborg-doctor`."""

from .entry import main

raise SystemExit(main())
