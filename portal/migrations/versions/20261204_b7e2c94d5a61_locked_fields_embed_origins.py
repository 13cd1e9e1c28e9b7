"""locked fields and the origins that may frame the embeddable form

Revision ID: b7e2c94d5a61
Revises: b5d0c2e7a913
Create Date: 2026-12-04 09:12:40.118402

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2c94d5a61'
down_revision = 'b5d0c2e7a913'
branch_labels = None
depends_on = None


def upgrade():
    # Existing fields stay unlocked; existing sites let no other site frame the form
    # until the admin lists one.
    with op.batch_alter_table('field_definitions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_locked', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('embed_origins', sa.JSON(), nullable=True))
    op.execute("UPDATE site_settings SET embed_origins = '[]'")
    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        batch_op.alter_column('embed_origins', existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        batch_op.drop_column('embed_origins')
    with op.batch_alter_table('field_definitions', schema=None) as batch_op:
        batch_op.drop_column('is_locked')
