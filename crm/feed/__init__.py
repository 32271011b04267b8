"""The iCalendar feed: events, the VEVENT writer, the live feed, its WSGI app, the watcher."""
