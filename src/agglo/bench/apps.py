from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "agglo.bench"
    label = "bench"
    verbose_name = "Benchmarks"
