package riverreplica

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

type riverDriver = riverpgxv5.Driver

func driver(pool *pgxpool.Pool) *riverDriver { return riverpgxv5.New(pool) }
