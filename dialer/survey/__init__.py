"""The callback survey (电话回访): work orders, the sample, the stored answers."""
