# Der Suchbildschirm. Die Suche läuft über Nachrichten und Meldungen auf diesem Gerät.
search-title = Suche
# Beschriftung und Platzhalter des Suchfelds.
search-field = Nachrichten und Meldungen durchsuchen
search-local-only = Die Suche läuft nur auf diesem Gerät; es wird nichts übertragen.
# Wird vom Screenreader vorgelesen, wenn eine Suche fertig ist.
search-count = { $count ->
    [one] { $count } Treffer
   *[other] { $count } Treffer
}
search-busy = Suche läuft…
# $query ist der eingegebene Suchbegriff.
search-nothing-found = Keine Treffer für „{ $query }“.
# Art des Treffers, vor dem Namen der Bank („Meldung · Demo Bank“).
search-kind-alert = Meldung
search-kind-message = Nachricht
