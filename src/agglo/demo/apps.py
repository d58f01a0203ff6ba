from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "agglo.demo"
    label = "demo"
    verbose_name = "Demo cluster"
