"""crm api usage: the CRM's API usage last reported

Revision ID: b7c2e91d4a03
Revises: f1a74b7dacee
Create Date: 2026-12-04 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c2e91d4a03'
down_revision = 'f1a74b7dacee'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'crm_api_usage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('crm', sa.String(length=40), nullable=False),
        sa.Column('used', sa.Integer(), nullable=False),
        sa.Column('allowed', sa.Integer(), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_api_usage')),
        sa.UniqueConstraint('crm', name=op.f('uq_crm_api_usage_crm')),
    )


def downgrade():
    op.drop_table('crm_api_usage')
