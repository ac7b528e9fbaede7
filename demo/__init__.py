"""The Northwind Bank demo inventory: the bank as data, the plan built from it, the code that writes it through
the services, and the German Credit model trained for real (``manage.py seed_demo``)."""
