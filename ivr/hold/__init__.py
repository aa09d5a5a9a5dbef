"""Hold and resume: polite, tracked, and no caller ever lost.

``machine`` holds the pure rules of one call's holds; ``controller`` runs them on AMI events
and API requests; ``actions`` turns them into AMI moves; the dialplan
(``dialplans/dialplan-hold.conf``) plays, waits and falls back on its own; the record
pipeline (``hotline.record_hold``) writes the segments; ``report`` sums them per agent.
"""
