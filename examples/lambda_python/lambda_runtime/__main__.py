"""python3 -m lambda_runtime --handler MODULE.FUNCTION --listen HOST:PORT"""

import sys

from lambda_runtime.runtime import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
