"""The bulletin (月度通报, 季度通报): its PDF, written after the monthly index run."""
