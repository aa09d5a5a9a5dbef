"""Apology calls (致歉外呼): verified complaint tickets, the calls, the SMS fallback."""
