"""Hold and resume (issue 4): polite, tracked, and no caller ever lost.

``machine`` holds the pure rules of one hold on one call; the AMI and dialplan edges come
with the rest of the issue.
"""
