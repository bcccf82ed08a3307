import django_filters

from adaccounts.models import AdAccount, AdAccountStatus
from platforms.base import PlatformType


class AdAccountFilter(django_filters.FilterSet):
    platform_type = django_filters.ChoiceFilter(choices=PlatformType.choices)
    status = django_filters.ChoiceFilter(choices=AdAccountStatus.choices)

    class Meta:
        model = AdAccount
        fields = ["platform_type", "status"]
