# The catalog's models were created by the `ads` app (migrations ads.0001-0004). This takes them over in
# Django's model state only: the tables keep their names (Meta.db_table) and their rows; nothing is run on
# the database. ads.0005 then removes the models from the `ads` app's state.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('ads', '0004_render_notes'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='Template',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=120)),
                ('slug', models.SlugField(blank=True, max_length=140, unique=True)),
                ('clip', models.FileField(upload_to='templates/')),
                ('poster', models.FileField(blank=True, upload_to='templates/posters/')),
                ('published', models.BooleanField(default=False)),
                ('label_corner', models.CharField(choices=[('top-left', 'Top Left'), ('top-right', 'Top Right'), ('bottom-left', 'Bottom Left'), ('bottom-right', 'Bottom Right')], default='bottom-right', max_length=12)),
                ('analysis_status', models.CharField(choices=[('pending', 'Pending'), ('analysing', 'Analysing'), ('ready', 'Ready'), ('failed', 'Failed')], default='pending', max_length=10)),
                ('analysis_progress', models.FloatField(default=0)),
                ('analysis_message', models.CharField(blank=True, max_length=300)),
                ('analysis_error', models.TextField(blank=True)),
                ('analysis_key', models.CharField(blank=True, max_length=80)),
                ('engine_version', models.CharField(blank=True, max_length=20)),
                ('info', models.JSONField(blank=True, default=dict)),
                ('tracks', models.JSONField(blank=True, default=list)),
                ('fan_track', models.IntegerField(blank=True, help_text='The face track the fan replaces.', null=True)),
                ('swap_face', models.BooleanField(default=True, help_text="Put the fan's face on a person. Off: a dialogue-only ad, no selfie asked.")),
                ('dialogue_stem', models.FileField(blank=True, help_text="Optional: the clip's dialogue alone (same length).", upload_to='templates/stems/')),
                ('music_stem', models.FileField(blank=True, help_text='Optional: music and effects without the dialogue.', upload_to='templates/stems/')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['-created_at'],
                'db_table': 'ads_template',
            },
        ),
        migrations.CreateModel(
            name='ContextTable',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key_field', models.CharField(help_text='What the fan picks, e.g. city.', max_length=40)),
                ('target', models.CharField(help_text='The placeholder it fills, e.g. dish.', max_length=40)),
                ('rows', models.JSONField(default=dict, help_text='{"Pune": "misal pav", "Delhi": "chole bhature"}')),
                ('template', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='context_tables', to='catalog.template')),
            ],
            options={
                'db_table': 'ads_contexttable',
            },
        ),
        migrations.CreateModel(
            name='DialogueSlot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('start', models.FloatField(help_text='Seconds from the start of the clip.')),
                ('end', models.FloatField(help_text='Seconds; the new line is fitted to exactly this span.')),
                ('speaker_track', models.IntegerField(blank=True, help_text='The face track who speaks (empty: the one whose mouth moves most).', null=True)),
                ('line', models.CharField(help_text="What is said, with placeholders: 'Happy Diwali, {name}!'", max_length=300)),
                ('template', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='slots', to='catalog.template')),
            ],
            options={
                'ordering': ['start'],
                'db_table': 'ads_dialogueslot',
            },
        ),
        migrations.CreateModel(
            name='PhraseRecording',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.CharField(max_length=120)),
                ('key', models.CharField(db_index=True, editable=False, max_length=120)),
                ('audio', models.FileField(upload_to='phrases/')),
                ('template', models.ForeignKey(blank=True, help_text='Empty: available to every template.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='phrases', to='catalog.template')),
            ],
            options={
                'db_table': 'ads_phraserecording',
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[]),
    ]
