"""Callback surveys (电话回访, issue 6): who is called about which completed work order,
and the scoring IVR. ``sampling`` is the pure choice of the sample."""
