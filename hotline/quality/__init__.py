"""Quality review (质检): supervisors score agents' calls against the etiquette standards.

Roles: ``config`` (the ``quality`` section: the form, the daily sample), ``form`` (pure:
a review's scores checked against the form, the call's total), ``sampling`` (pure: which
calls of a day are reviewed), ``store`` (the ``qa_reviews`` rows and the reports),
``api`` (sampling, reviewing, the reports), ``feature`` (wiring).
"""
