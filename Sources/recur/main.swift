import Recur
print("recur")
