module github.com/Jguer/go-alpm/v2

go 1.17
