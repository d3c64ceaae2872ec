from target_exactonline.target import TargetExactOnline

TargetExactOnline.cli()
