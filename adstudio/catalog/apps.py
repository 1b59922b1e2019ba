from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Templates: the clips, their analysis, their dialogue slots and the catalog pages."""

    name = "adstudio.catalog"
    label = "catalog"
    verbose_name = "Catalog"
