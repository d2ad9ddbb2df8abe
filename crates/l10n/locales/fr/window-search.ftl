# L'écran de recherche. La recherche porte sur les messages et alertes de cet appareil.
search-title = Recherche
# Libellé et texte indicatif du champ de recherche.
search-field = Rechercher dans les messages et les alertes
search-local-only = La recherche se fait uniquement sur cet appareil ; rien n'est envoyé.
# Lu par les lecteurs d'écran à la fin d'une recherche.
search-count = { $count ->
    [one] { $count } résultat
   *[other] { $count } résultats
}
search-busy = Recherche en cours…
# $query est le texte saisi.
search-nothing-found = Aucun résultat pour « { $query } ».
# Type de résultat, avant le nom de la banque (« Alerte · Demo Bank »).
search-kind-alert = Alerte
search-kind-message = Message
