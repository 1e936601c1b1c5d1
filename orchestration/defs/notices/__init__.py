"""The notices (提示单): their documents, written after the monthly index run."""
