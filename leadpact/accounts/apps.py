from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leadpact.accounts"
    label = "accounts"
