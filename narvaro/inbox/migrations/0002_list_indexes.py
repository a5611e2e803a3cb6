# Indexes for the inbox list at 100,000 conversations (bench/inbox_list.py).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_conversations"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="conversation",
            name="conv_unit_newest_idx",
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                fields=["unit", "-last_inbound_at", "-id", "root_item"], name="conv_unit_list_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["-last_inbound_at", "-id"], name="conv_newest_idx"),
        ),
    ]
