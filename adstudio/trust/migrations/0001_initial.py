# SensitiveTerm was created by the `ads` app (migration ads.0003). This takes it over in Django's model
# state only: the table keeps its name (ads_sensitiveterm) and its rows. ads.0005 then removes it from the
# `ads` app's state.

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('ads', '0004_render_notes'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='SensitiveTerm',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('term', models.CharField(max_length=80, unique=True)),
                ('note', models.CharField(blank=True, max_length=200)),
            ],
            options={
                'ordering': ['term'],
                'db_table': 'ads_sensitiveterm',
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[]),
    ]
