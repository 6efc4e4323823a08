"""Read queries shared by the API, admin and tasks, always scoped to one clinic."""
