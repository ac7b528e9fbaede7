"""REST API v1 of governance: serializers, FilterSets, viewsets and their routes (see ``routes.register``)."""
