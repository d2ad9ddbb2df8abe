# The search screen. Search runs over the messages and alerts on this device.
search-title = Search
# The search field's label and placeholder.
search-field = Search messages and alerts
search-local-only = Search runs on this device only; nothing is sent anywhere.
# Read out by screen readers when a search finishes.
search-count = { $count ->
    [one] { $count } result
   *[other] { $count } results
}
search-busy = Searching…
# $query is what the person typed.
search-nothing-found = Nothing found for “{ $query }”.
# What a result is, shown before the bank's name ("Alert · Demo Bank").
search-kind-alert = Alert
search-kind-message = Message
