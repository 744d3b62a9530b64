"""Dates as the lists show them ("Nov 23, 2026"), so that detail panels, history and lists agree
(Django's English default writes "Nov. 23, 2026" and "April 20, 2026")."""

DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "M Y"
