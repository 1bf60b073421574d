from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sandbox", "0002_ordered_json"),
        ("sandbox", "0002_sandboxfault_applied"),
    ]

    operations = []
