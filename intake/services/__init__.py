"""Every write and business action of the service; the API, admin and tasks all call these."""
