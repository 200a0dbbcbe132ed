"""The browser pages: agent desktop, supervisor wallboard, reports and admin."""
